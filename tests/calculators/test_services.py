"""The tools' services: what the benchmark times (text_recommendations) gives what the
finder gives, from one catalog read, and follows an edited catalog at once."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from calculators import recommender
from calculators.catalog import catalog_entries
from calculators.models import Procedure
from calculators.recommender import analyse_query, recommend
from calculators.services import text_recommendations

pytestmark = pytest.mark.django_db


def test_a_text_recommendation_is_the_finders_answer_from_one_catalog_read():
    text = "botox for my frown lines, no surgery, budget £400"
    with CaptureQueriesContext(connection) as queries:
        analysis, recommendations = text_recommendations(text=text)

    assert len(queries) == 1
    catalog = catalog_entries()
    assert analysis == analyse_query(text, catalog)
    assert recommendations == recommend(analysis, catalog)
    assert recommendations[0].slug == "botox"


def test_the_finders_index_is_built_once_per_catalog_and_again_when_it_changes():
    text_recommendations(text="lip filler")
    built = recommender._index.cache_info().misses
    text_recommendations(text="crow's feet")
    assert recommender._index.cache_info().misses == built

    Procedure.objects.filter(slug="botox").update(is_active=False)
    _, recommendations = text_recommendations(text="botox for my frown lines")

    assert recommender._index.cache_info().misses == built + 1
    assert "botox" not in [r.slug for r in recommendations]
