"""The local world: the topology built in moto, the real ASL run by moto's interpreter, the real
handlers invoked in-process. How users rehearse a shift or a failover before they deploy."""
