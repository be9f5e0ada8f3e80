"""Mock platforms: faithful stand-ins for the Taobao/Tmall, JD, Pinduoduo and Douyin open APIs.

They serve a simulated merchant's folder (docs/dev/contracts.md §1) over real HTTP with each
platform's request and response shapes, signature checks, OAuth tokens, paging and window limits,
server-side rate limits and injected faults, so the collection layer (T/JNBDA 0003-2025 4.3.4, 5.1)
is tested end to end without the real platforms. ``ecfusion mock-platform`` runs one.
"""
