"""The public CTA tools' data (treatment catalog): arrives with the tools issue."""
