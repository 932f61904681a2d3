"""Local fake vendor servers (Slack, Twilio, Groove) that tests and benchmarks start on 127.0.0.1.

They speak the real endpoint paths and payload shapes so the official SDKs run unmodified against them.
"""
