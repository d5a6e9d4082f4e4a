"""Stage 1: records in, clean articles out (reading, HTML extraction, repair, debris removal)."""
from samestory.ingest.clean import CleanSettings, clean_record, normalise_date, parse_timestamp, strip_debris
from samestory.ingest.read import MAX_BYTES, read_record, record_from_bytes
from samestory.ingest.records import Columns, InputRecord, iter_records

__all__ = ["MAX_BYTES", "CleanSettings", "Columns", "InputRecord", "clean_record", "iter_records", "normalise_date",
           "parse_timestamp", "read_record", "record_from_bytes", "strip_debris"]
