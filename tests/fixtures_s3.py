"""S3 test-server fixtures (moto_server subprocess); filled in by the storage work."""
