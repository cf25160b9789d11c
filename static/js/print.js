// Buttons marked data-print print the page (no inline onclick: the CSP forbids it).
// Hidden until this runs, so a page without scripts shows no dead button.
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-print]")) {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  }
});
