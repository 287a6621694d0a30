"""The demo county and generated provinces, built mechanism by mechanism.

This app sits above every mechanism: ``shishi demo`` and ``shishi generate`` call the builders
listed here in order, each given the county it fills. A new mechanism adds its builder to
``COUNTY_BUILDERS`` (and, for scale, to ``GENERATE_BUILDERS``).
"""
