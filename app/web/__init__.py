"""The web layer: templates and pages, charts, presets and the lecture view, HTTP plumbing
(body limits, errors, rounded JSON), security middleware, slow-client deadlines, route dependencies."""
