// Autocomplete for the search boxes: fills each box's <datalist> with listing titles from
// /search/suggest/. Progressive enhancement: the search works the same without it.
(function () {
  function debounce(fn, ms) {
    let timer;
    return function (...args) {
      clearTimeout(timer);
      timer = setTimeout(() => fn.apply(this, args), ms);
    };
  }
  document.querySelectorAll("input[data-suggest-url]").forEach((input) => {
    const list = document.getElementById(input.getAttribute("list"));
    if (!list) return;
    let last = "";
    input.addEventListener(
      "input",
      debounce(async () => {
        const q = input.value.trim();
        if (q.length < 2 || q === last) return;
        last = q;
        try {
          const url = input.dataset.suggestUrl + "?q=" + encodeURIComponent(q);
          const response = await fetch(url, { headers: { Accept: "application/json" } });
          if (!response.ok) return;
          const data = await response.json();
          list.replaceChildren(
            ...data.suggestions.map((title) => {
              const option = document.createElement("option");
              option.value = title;
              return option;
            })
          );
        } catch (e) {
          /* suggestions are optional */
        }
      }, 200)
    );
  });
})();
