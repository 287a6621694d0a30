"""The ledger framework (台账): import and export of spreadsheets for every mechanism.

A mechanism describes its sheets (``Sheet``: columns, how to check rows, how to write them) and its
exports (``Exporter``: a header and rows); this package does the rest the same way for all of
them: reading .xlsx and CSV, finding the header below title and stamp rows, errors by sheet, row
and column in the reader's language, the two phases (check every row, then write everything in
one transaction, or roll back for a dry run), audit entries written in bulk at the end, xlsx, CSV
and JSON from the same rows, and the upload page's size limit.
"""
