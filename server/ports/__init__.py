"""The ports: what the use cases need from storage, as protocols and plain records,
below both the services that use them and the adapters that implement them
(``server.registry``). One module per capability."""
