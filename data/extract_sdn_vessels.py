#!/usr/bin/env python3
"""Extracts the IMO numbers of the vessels on the OFAC SDN list (data/README.md, "Rule").

Usage: python3 extract_sdn_vessels.py sdn.csv > ofac_sdn_vessels.csv

Rule: a record whose third column (type) is `vessel`; every match of
`Vessel Registration Identification IMO (\\d{7})` in its remarks (twelfth column) gives one row.
"""
import csv
import re
import sys

PATTERN = re.compile(r"Vessel Registration Identification IMO (\d{7})")

out = csv.writer(sys.stdout, lineterminator="\n")
out.writerow(["imo", "sdn_entry", "name", "vessel_type", "flag", "program"])
with open(sys.argv[1], encoding="utf-8", errors="replace", newline="") as f:
    for row in csv.reader(f):
        if len(row) < 12 or row[2].strip().lower() != "vessel":
            continue
        clean = lambda v: "" if v.strip() == "-0-" else v.strip()
        for m in PATTERN.finditer(row[11]):
            out.writerow([m.group(1), row[0], clean(row[1]), clean(row[6]), clean(row[9]), clean(row[3])])
