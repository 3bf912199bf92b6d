"""Read the treatment catalog as plain data for the pure modules."""

from calculators.models import Procedure
from calculators.recommender import CatalogEntry


def catalog_entries() -> tuple[CatalogEntry, ...]:
    return tuple(
        CatalogEntry(
            slug=p.slug,
            name=p.name,
            category=p.category,
            concerns=tuple(p.concerns),
            areas=tuple(p.areas),
            keywords=tuple(p.keywords),
            description=p.description,
            kinds=tuple(p.kinds or ()),
            price_from=float(p.price_min),
            price_unit=p.get_price_unit_display(),
        )
        for p in Procedure.objects.filter(is_active=True).order_by("order", "pk")
    )
