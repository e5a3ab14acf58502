"""The live view: a read-only web server pushing what the record stream says, as it happens."""
