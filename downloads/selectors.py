def download_stats_by_product(product_ids: list[int]) -> dict[int, tuple[int, int]]:
    """{product_id: (unique downloaders, total downloads)} from the download events.

    The events table (`ProductDownloadEvent`) arrives with the downloads capability;
    until then nobody has downloaded anything and every product reads (0, 0).
    """
    return {}
