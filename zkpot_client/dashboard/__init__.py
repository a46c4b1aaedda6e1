"""`zkpot dashboard`: a task watched live in the browser.

A keyless observer, like `zkpot watch`: it reads the task from a node's JSON-RPC
(`state`), keeps it current in the background (`live`), measures the global
models when it has the content store (`accuracy`), draws the accuracy over
rounds (`chart`) and serves a page that updates itself (`app`, with the page's
files in `static/`).
"""
