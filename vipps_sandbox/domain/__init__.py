"""The sandbox's domain rules, one mixin per API, combined by ``vipps_sandbox.state.SandboxState``."""
