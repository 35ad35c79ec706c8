"""What the HTTP services share: the app they start from, routing, errors and their OpenAPI,
request-size caps, request metrics, 503s for dependencies, readiness and the operations
endpoints, and serving with its command line."""

from http_kit.cli import configured_settings, run_service_command
from http_kit.direct import serve_directly
from http_kit.errors import (
    ApiError,
    Conflict,
    ContentTooLarge,
    Forbidden,
    HeadersTooLarge,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    RateLimited,
    ServiceUnavailable,
    install_error_handlers,
    render_error,
)
from http_kit.heap import settle_heap
from http_kit.metrics import ServiceMetrics, exposition, record_request_durations
from http_kit.openapi import ErrorBody, ErrorCatalogue, error_response
from http_kit.operations import operations_router
from http_kit.readiness import ReadinessProbe, check_readiness, failing
from http_kit.request_size import limit_request_bodies, limit_request_headers
from http_kit.resources import install_resources, resource, resources_dependency, resources_of
from http_kit.routing import SlashOptionalRouter
from http_kit.service_app import create_service_app
from http_kit.serving import serve
from http_kit.settings import HttpServiceSettings
from http_kit.unavailable import Dependency, DependencyUnavailable, answer_unavailable

__all__ = [
    "ApiError",
    "Conflict",
    "ContentTooLarge",
    "Dependency",
    "DependencyUnavailable",
    "ErrorBody",
    "ErrorCatalogue",
    "Forbidden",
    "HeadersTooLarge",
    "HttpServiceSettings",
    "InvalidInput",
    "NotAuthenticated",
    "NotFound",
    "RateLimited",
    "ReadinessProbe",
    "ServiceMetrics",
    "ServiceUnavailable",
    "SlashOptionalRouter",
    "answer_unavailable",
    "check_readiness",
    "configured_settings",
    "create_service_app",
    "error_response",
    "exposition",
    "failing",
    "install_error_handlers",
    "install_resources",
    "limit_request_bodies",
    "limit_request_headers",
    "operations_router",
    "record_request_durations",
    "render_error",
    "resource",
    "resources_dependency",
    "resources_of",
    "run_service_command",
    "serve",
    "serve_directly",
    "settle_heap",
]
