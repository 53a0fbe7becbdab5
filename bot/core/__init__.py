"""The bottom layer: domain types, errors, labels and state enums, settings, files. Imports none of ours."""
