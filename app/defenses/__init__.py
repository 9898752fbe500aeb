"""Defenses: adversarial training, a detector of adversarial inputs, and input transforms.

``adversarial`` is the inner loop of adversarial training, ``evaluation`` measures accuracy under
attack (for ``advlab eval``, the robustness curves and the benchmarks), ``detector`` is the
"SafetyNet" of seed 002, ``transforms`` the JPEG / bit-depth / median-filter squeezers.
"""
