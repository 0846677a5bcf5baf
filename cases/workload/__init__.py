"""Workload: the policy, capacity, the load arithmetic, allocation and reassignment."""
