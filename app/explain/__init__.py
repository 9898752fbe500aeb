"""Why adversarial examples work: the input gradient of a real model, and the linear toy of seeds 002/004.

``gradients`` and ``linear`` hold the maths (torch and numpy), ``plot`` the server-side SVG
geometry, ``schemas`` the JSON bodies and ``services`` what the routes in app/routes/explain.py call.
"""
