"""Resumable uploads: the tus 1.0.0 server at /uploads/ that delivers files to requests.

models: one row per upload in progress. staging: its bytes on disk, the lock that keeps
two clients from interleaving them, and the hashes computed as bytes arrive. views: the
protocol (creation, creation-with-upload, HEAD/PATCH, termination, expiration, checksum).
"""
