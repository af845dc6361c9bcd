"""Path finding through a Jira workflow one transition at a time."""

from bridge.sync.model import JiraStatus
from bridge.sync.status import TransitionOption, next_transition

TODO, PROGRESS = JiraStatus("To Do", "new"), JiraStatus("In Progress", "indeterminate")
REVIEW, DONE = JiraStatus("In Review", "indeterminate"), JiraStatus("Done", "done")


def option(number: int, to: JiraStatus) -> TransitionOption:
    return TransitionOption(str(number), to)


def test_direct_transition_wins() -> None:
    step = next_transition(TODO, "done", [option(1, PROGRESS), option(2, DONE)], {}, set())
    assert step == option(2, DONE)


def test_known_graph_gives_the_shortest_first_step() -> None:
    learned = {"In Progress": {"In Review"}, "In Review": {"Done"}, "Blocked": {"Done"}}
    blocked = JiraStatus("Blocked", "indeterminate")
    step = next_transition(TODO, "Done", [option(1, PROGRESS), option(2, blocked)], learned,
                           set(), "done")
    assert step == option(2, blocked)


def test_unknown_graph_steps_towards_the_target_category_without_going_back() -> None:
    step = next_transition(PROGRESS, "Done", [option(1, TODO), option(2, REVIEW)], {},
                           {"To Do"}, "done")
    assert step == option(2, REVIEW)


def test_nothing_left_to_try_is_none() -> None:
    assert next_transition(PROGRESS, "Done", [option(1, TODO)], {}, {"To Do"}, "done") is None
    assert next_transition(TODO, "Done", [], {}, set(), "done") is None
