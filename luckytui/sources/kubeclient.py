"""One way to make a Kubernetes API client, for the source and for the remedies.

Only the official client's ApiClient layer is used: its generated API classes
and their models cost over a second of CPU and ~27 MB to import, for requests
whose JSON luckytui decodes itself. Call from a worker thread: loading a
kubeconfig may run an exec credential plugin.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Client:
    api: Any  # kubernetes.client.api_client.ApiClient
    address: str  # host:port, for messages
    token: str  # the bearer token in use, so messages can scrub it ("" when none)


def new_client(kubeconfig: str | None, context: str | None) -> Client:
    """From the kubeconfig (None: $KUBECONFIG or ~/.kube/config) and context; inside a
    pod with no kubeconfig, from its service account. Requests are never retried."""
    import urllib3
    from kubernetes import config
    from kubernetes.client.api_client import ApiClient
    from kubernetes.client.configuration import Configuration
    from kubernetes.config.config_exception import ConfigException

    cfg = Configuration()
    cfg.retries = urllib3.Retry(total=0, redirect=0)
    try:
        api = config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=kubeconfig, context=context, persist_config=False,
            client_configuration=cfg)
    except ConfigException:
        if kubeconfig is not None or not os.environ.get("KUBERNETES_SERVICE_HOST"):
            raise
        cfg = Configuration()
        cfg.retries = urllib3.Retry(total=0, redirect=0)
        config.load_incluster_config(client_configuration=cfg)  # type: ignore[no-untyped-call]
        api = ApiClient(cfg)
    api.user_agent = "luckytui/0.1"
    auth = str((cfg.api_key or {}).get("authorization") or "")
    return Client(api, str(cfg.host).split("://", 1)[-1].rstrip("/"),
                  auth.split(" ", 1)[-1].strip())
