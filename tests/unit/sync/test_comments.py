"""Comment decisions: new, edited, deleted, echoed, duplicated, out of order, restricted."""

from bridge.sync.comments import (
    CommentPolicy,
    CommentView,
    decide_comments,
    digest,
    header,
    marker,
)
from bridge.sync.intents import CopyCommentToJira, CopyCommentToZoho, DeleteMirror, EditMirror
from bridge.sync.model import CommentMirror

POLICY = CommentPolicy(zoho_label="Zoho CRM note")


def jira(cid: str, text: str = "hello", created: float = 1.0, **extra: object) -> CommentView:
    return CommentView(id=cid, text=text, author="Ann Agent", created=created, **extra)


def zoho(cid: str, text: str = "hi", created: float = 1.0, **extra: object) -> CommentView:
    return CommentView(id=cid, text=text, author="Zed", created=created, **extra)


def row(origin: str, origin_id: str, mirror_id: str, text: str) -> CommentMirror:
    return CommentMirror(link_id="L", origin=origin, origin_id=origin_id,  # type: ignore[arg-type]
                         mirror_id=mirror_id, digest=digest(text))


def test_a_new_comment_on_each_side_is_copied_once_with_its_origin_line() -> None:
    decided = decide_comments([], [jira("10", "**bold**")], [zoho("z1", "plain")], POLICY)
    assert decided == [
        CopyCommentToZoho(origin_id="10", header="[Jira comment 10 · Ann Agent]",
                          text="**bold**", digest=digest("**bold**"),
                          reason="jira comment 10 copied"),
        CopyCommentToJira(origin_id="z1", header="[Zoho CRM note z1 · Zed]", text="plain",
                          digest=digest("plain"), reason="zoho comment z1 copied"),
    ]
    assert decided[0].header.startswith(marker("Jira comment", "10"))


def test_a_mirrored_comment_is_not_copied_again_and_its_copy_is_not_copied_back() -> None:
    mirrors = [row("jira", "10", "z9", "hello"), row("zoho", "z1", "11", "hi")]
    copies = [zoho("z9", "[Jira comment 10 · Ann Agent]\n\nhello"),
              jira("11", "[Zoho CRM note z1 · Zed]\n\nhi")]
    assert decide_comments(mirrors, [jira("10"), copies[1]], [zoho("z1"), copies[0]],
                           POLICY) == []


def test_an_edit_rewrites_the_copy_and_a_deletion_deletes_it() -> None:
    mirrors = [row("jira", "10", "z9", "hello"), row("zoho", "z1", "11", "hi")]
    decided = decide_comments(mirrors, [jira("10", "hello again"), jira("11")], [], POLICY)
    assert decided == [
        EditMirror(origin="jira", origin_id="10", mirror_id="z9",
                   header=header("Jira comment", "10", "Ann Agent"), text="hello again",
                   digest=digest("hello again"), reason="jira comment 10 edited"),
        DeleteMirror(origin="zoho", origin_id="z1", mirror_id="11",
                     reason="zoho comment z1 deleted"),
    ]


def test_echoes_of_the_bridges_own_writes_are_never_copied() -> None:
    """Not in the mirror table (e.g. the table commit was lost) but written by the bridge:
    its Jira account, its origin line, or its link note."""
    decided = decide_comments(
        [], [jira("10", ours=True), jira("11", "[Zoho CRM note 5 · Zed]\n\nx")],
        [zoho("z1", "[Jira comment 10 · Ann]\n\nhello"),
         zoho("z2", "Linked to Jira issue SUP-1 (https://x, issue id 1)")], POLICY)
    assert decided == []


def test_a_comment_listed_twice_is_copied_once() -> None:
    decided = decide_comments([], [jira("10"), jira("10")], [zoho("z1"), zoho("z1")], POLICY)
    assert [type(i) for i in decided] == [CopyCommentToZoho, CopyCommentToJira]


def test_copies_follow_the_originals_order_whatever_the_listing_order() -> None:
    listed = [jira("12", created=3.0), jira("10", created=1.0), jira("11", created=2.0)]
    zoho_listed = [zoho("z2", created=2.5), zoho("z1", created=0.5)]
    decided = decide_comments([], listed, zoho_listed, POLICY)
    assert [getattr(i, "origin_id", "") for i in decided] == ["z1", "10", "11", "z2", "12"]


def test_an_unchanged_origin_needs_nothing_even_when_its_copy_reads_differently() -> None:
    """Jira re-renders bodies: only the original's text is compared with the digest."""
    mirrors = [row("zoho", "z1", "11", "a *b*")]
    copy = jira("11", "[Zoho CRM note z1 · Zed]\n\na *b* (re-rendered)", ours=True)
    assert decide_comments(mirrors, [copy], [zoho("z1", "a *b*")], POLICY) == []


def test_restricted_jira_comments_stay_in_jira() -> None:
    assert decide_comments([], [jira("10", restricted=True)], [], POLICY) == []
    mirrors = [row("jira", "10", "z9", "hello")]
    (decided,) = decide_comments(mirrors, [jira("10", restricted=True)], [], POLICY)
    assert decided == DeleteMirror(origin="jira", origin_id="10", mirror_id="z9",
                                   reason="jira comment 10 is restricted")
    allowed = CommentPolicy(copy_restricted=True)
    assert [type(i) for i in decide_comments([], [jira("10", restricted=True)], [],
                                              allowed)] == [CopyCommentToZoho]


def test_direction_limits_which_side_is_copied() -> None:
    to_jira_only = CommentPolicy(to_zoho=False)
    decided = decide_comments([], [jira("10")], [zoho("z1")], to_jira_only)
    assert [type(i) for i in decided] == [CopyCommentToJira]
