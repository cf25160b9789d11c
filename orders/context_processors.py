from orders.selectors import cart_item_count


def cart(request):
    """`cart_count` for the header badge on every page. A session read, no query:
    computed eagerly so filters like pluralize see an int."""
    return {"cart_count": cart_item_count(request)}
