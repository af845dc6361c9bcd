"""Attachment decisions: new, deleted, echoed, duplicated, out of order, over the cap,
deletes following the original or not."""

from hypothesis import given
from hypothesis import strategies as st

from bridge.sync.attachments import (
    AttachmentPolicy,
    AttachmentView,
    decide_attachments,
    zoho_files_changed,
)
from bridge.sync.intents import (
    CopyAttachment,
    DeleteAttachmentCopy,
    MatchAttachment,
    Problem,
    SkipAttachment,
)
from bridge.sync.model import AttachmentMirror

POLICY = AttachmentPolicy(max_bytes=1000)


def file(fid: str, name: str = "a.txt", size: int = 10, created: float = 1.0,
         sha256: str = "") -> AttachmentView:
    return AttachmentView(id=fid, name=name, size=size, created=created, sha256=sha256)


def row(origin: str, origin_id: str, mirror_id: str, name: str = "a.txt",
        size: int = 10) -> AttachmentMirror:
    return AttachmentMirror(link_id="L", origin=origin,  # type: ignore[arg-type]
                            origin_id=origin_id, mirror_id=mirror_id, name=name, size=size)


def test_a_new_file_on_each_side_is_copied_to_the_other() -> None:
    decided = decide_attachments([], [file("10", "spec.pdf")], [file("z1", "log.txt", 20)],
                                 POLICY)
    assert decided == [
        CopyAttachment(origin="jira", origin_id="10", name="spec.pdf", size=10,
                       reason="jira attachment spec.pdf copied"),
        CopyAttachment(origin="zoho", origin_id="z1", name="log.txt", size=20,
                       reason="zoho attachment log.txt copied"),
    ]


def test_copies_listed_on_the_other_side_are_never_copied_back() -> None:
    mirrors = [row("jira", "10", "z9"), row("zoho", "z1", "11", "b.txt")]
    decided = decide_attachments(mirrors, [file("10"), file("11", "b.txt")],
                                 [file("z9"), file("z1", "b.txt")], POLICY)
    assert decided == []


def test_a_file_already_on_both_sides_is_paired_not_copied() -> None:
    decided = decide_attachments([], [file("10", created=5.0, sha256="h1")],
                                 [file("z1", "renamed.txt", created=2.0, sha256="h1")],
                                 POLICY)
    assert decided == [MatchAttachment(
        origin="zoho", origin_id="z1", mirror_id="10", name="renamed.txt", size=10,
        sha256="h1", reason="zoho attachment renamed.txt is already on both sides")]


def test_without_hashes_the_same_name_and_size_pairs_but_different_content_does_not() -> None:
    same = decide_attachments([], [file("10")], [file("z1")], POLICY)
    assert [type(i) for i in same] == [MatchAttachment]
    differ = decide_attachments([], [file("10", sha256="h1")], [file("z1", sha256="h2")],
                                POLICY)
    assert [type(i) for i in differ] == [CopyAttachment, CopyAttachment]


def test_copies_go_oldest_first_whatever_the_listing_order() -> None:
    decided = decide_attachments([], [file("3", "c", created=3.0), file("1", "a", created=1.0),
                                      file("2", "b", created=2.0), file("1", "a", created=1.0)],
                                 [], POLICY)
    assert [i.origin_id for i in decided if isinstance(i, CopyAttachment)] == ["1", "2", "3"]


def test_a_file_over_the_cap_is_skipped_and_reported_once() -> None:
    big = file("10", "video.mp4", size=1001)
    first = decide_attachments([], [big], [], POLICY)
    reason = "jira attachment video.mp4 not copied: 1001 bytes is over the 1000-byte limit"
    assert first == [SkipAttachment(origin="jira", origin_id="10", name="video.mp4",
                                    size=1001, reason=reason),
                     Problem(field="attachments", reason=reason)]
    assert decide_attachments([row("jira", "10", "", "video.mp4", 1001)], [big], [],
                              POLICY) == []


def test_a_skipped_file_is_copied_once_the_cap_allows_it() -> None:
    decided = decide_attachments([row("jira", "10", "", "video.mp4", 1001)],
                                 [file("10", "video.mp4", size=1001)], [],
                                 AttachmentPolicy(max_bytes=2000))
    assert [type(i) for i in decided] == [CopyAttachment]


def test_a_deleted_original_keeps_its_copy_by_default() -> None:
    assert decide_attachments([row("jira", "10", "z9")], [], [file("z9")], POLICY) == []


def test_a_deleted_original_deletes_its_copy_when_the_policy_says_so() -> None:
    policy = AttachmentPolicy(max_bytes=1000, deletes=True)
    decided = decide_attachments([row("zoho", "z1", "11")], [file("11")], [], policy)
    assert decided == [DeleteAttachmentCopy(origin="zoho", origin_id="z1", mirror_id="11",
                                            reason="zoho attachment a.txt deleted: copy deleted")]


def test_a_deleted_copy_is_not_copied_again() -> None:
    assert decide_attachments([row("jira", "10", "z9")], [file("10")], [], POLICY) == []


def test_a_skipped_file_that_is_deleted_is_forgotten() -> None:
    decided = decide_attachments([row("jira", "10", "", "v.mp4", 5000)], [], [], POLICY)
    assert [(type(i), i.mirror_id) for i in decided  # type: ignore[union-attr]
            ] == [(DeleteAttachmentCopy, "")]


def test_one_direction_only_copies_that_way() -> None:
    policy = AttachmentPolicy(to_jira=False)
    decided = decide_attachments([], [file("10", "a")], [file("z1", "b")], policy)
    assert [i.origin for i in decided] == ["jira"]  # type: ignore[union-attr]


names = st.sampled_from(["a.txt", "b.pdf", "c.png"])
files = st.lists(st.builds(AttachmentView, id=st.text("0123456789", min_size=1, max_size=3),
                           name=names, size=st.integers(0, 2000),
                           created=st.floats(0, 10)), max_size=6)


@given(files, files)
def test_each_file_is_handled_once_and_a_second_pass_changes_nothing(
        jira: list[AttachmentView], zoho: list[AttachmentView]) -> None:
    zoho = [AttachmentView(id=f"z{f.id}", name=f.name, size=f.size, created=f.created)
            for f in zoho]
    decided = decide_attachments([], jira, zoho, POLICY)
    origins = [(i.origin, i.origin_id) for i in decided  # type: ignore[union-attr]
               if not isinstance(i, Problem)]
    assert len(origins) == len(set(origins))
    mirrors, jira_now, zoho_now = [], list(jira), list(zoho)
    for index, intent in enumerate(decided):  # carry the decisions out
        match intent:
            case CopyAttachment():
                copy = AttachmentView(id=f"c{index}", name=intent.name, size=intent.size)
                (zoho_now if intent.origin == "jira" else jira_now).append(copy)
                mirrors.append(row(intent.origin, intent.origin_id, copy.id))
            case MatchAttachment():
                mirrors.append(row(intent.origin, intent.origin_id, intent.mirror_id))
            case SkipAttachment():
                mirrors.append(row(intent.origin, intent.origin_id, "", intent.name,
                                   intent.size))
    assert decide_attachments(mirrors, jira_now, zoho_now, POLICY) == []


def test_a_zoho_file_list_needs_a_pass_for_new_files_and_followed_deletions_only() -> None:
    mirrors = [row("zoho", "z1", "11"), row("jira", "10", "z9"), row("zoho", "z2", "")]
    assert not zoho_files_changed(mirrors, {"z1", "z9", "z2"}, POLICY)
    assert zoho_files_changed(mirrors, {"z1", "z9", "z2", "z3"}, POLICY)
    assert not zoho_files_changed(mirrors, {"z9"}, POLICY)  # deletes do not follow
    assert zoho_files_changed(mirrors, {"z9"}, AttachmentPolicy(deletes=True))
