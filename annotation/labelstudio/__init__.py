"""The Label Studio round trip: labeling config, tasks and results, offsets, server and SDK client."""
