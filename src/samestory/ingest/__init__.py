"""Stage 1: records in, clean articles out (reading, HTML extraction, repair, debris removal)."""
from samestory.ingest.clean import CleanSettings, clean_record, strip_debris
from samestory.ingest.read import MAX_BYTES, read_record, record_from_bytes
from samestory.ingest.records import Columns, InputRecord, folder_files, iter_records
from samestory.ingest.validate import iso_timestamp, normalise_date, parse_date
from samestory.ingest.validate import timestamp as parse_timestamp

__all__ = ["MAX_BYTES", "CleanSettings", "Columns", "InputRecord", "clean_record", "folder_files", "iso_timestamp", "iter_records", "normalise_date",
           "parse_date", "parse_timestamp", "read_record", "record_from_bytes", "strip_debris"]
