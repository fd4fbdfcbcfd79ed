"""Starting servers on free loopback ports, one way for everyone: the harness's bundled mock, the test
suite and the bench (a process running `contract-mock serve`, or an ASGI app of this process in a thread).

A bottom layer: it starts the mock as a command, never by importing it.
"""
