"""Revnue's paths: `/api/v2/contract` with or without the trailing slash, as DRF's router would take them."""

from django.urls import re_path

from tests.faithful.revnue_drf.views import ContractDetail, ContractList

urlpatterns = [
    re_path(r"^api/v2/contract/?$", ContractList.as_view()),
    re_path(r"^api/v2/contract/(?P<pk>[^/.]+)/?$", ContractDetail.as_view()),
]
