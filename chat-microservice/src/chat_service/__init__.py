"""Chats, lossless message sending and history."""
