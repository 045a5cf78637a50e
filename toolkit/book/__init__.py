"""The book: editions and English read from their repositories (git or a mirror directory),
copied into the project at set-up with a lock of hashes, and the facts every command shares
(which English each file was translated from, and where a chapter lives in today's English).
"""
