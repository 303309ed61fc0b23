"""How many online content apps, on how many hosts, does a persistent installation run?"""

from pulpanalytics.metrics.averages import ProcessesAndHostsAverages


class OnlineContentApps(ProcessesAndHostsAverages):
    name = "online_content_apps"
    title = "Online content apps"
    question = (
        "How many online content apps, on how many hosts, does a persistent installation run?"
    )
    field = "online_content_apps"
    noun = "content app"
