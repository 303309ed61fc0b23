"""How many online workers, on how many hosts, does a persistent installation run?"""

from pulpanalytics.metrics.averages import ProcessesAndHostsAverages


class OnlineWorkers(ProcessesAndHostsAverages):
    name = "online_workers"
    title = "Online workers"
    question = "How many online workers, on how many hosts, does a persistent installation run?"
    field = "online_workers"
    noun = "worker"
