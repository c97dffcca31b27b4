import os

# scikit-learn's check_array_api_input (run by the estimator checks) is skipped
# unless SciPy's array API support is switched on before SciPy is imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
