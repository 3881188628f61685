//! What the screen says must survive losing colour and width: the text alone (as a
//! monochrome terminal shows it) carries every state. A long image tag is cut, never
//! the ready count or the health mark after it; the canary bar tells stable from
//! canary by glyph.

use rollcall::app::{EnvUpdate, Event, update};
use rollcall::domain::WatchUpdate;
use rollcall_testkit::canary::{Phase, with_rollout};
use rollcall_testkit::state::*;

#[test]
fn long_tags_are_cut_never_the_count_or_the_health() {
    for (w, h) in [(80, 24), (160, 48), (64, 24)] {
        let mut s = populated(w, h);
        press(&mut s, "]]1");
        let long = deployment("dictamesh-prod", "metadata-catalog", 5, 5, "v1.3.0-broken");
        feed(&mut s, 2, EnvUpdate::Deployments(WatchUpdate::Apply(long)));
        let screen = screen_text(&s);
        let row = screen
            .lines()
            .find(|l| l.contains("metadata-catalog  "))
            .unwrap_or_else(|| panic!("{w}x{h}: no matrix row\n{screen}"));
        // Every environment's count and mark, prod's after its cut tag.
        assert_eq!(row.matches('✔').count(), 3, "{w}x{h}: {row}");
        assert!(row.contains("… 5/5 ✔"), "{w}x{h}: {row}");
        assert!(row.contains("v1.3."), "{w}x{h}: {row}");
        for ready in ["1/1 ✔", "2/2 ✔"] {
            assert!(row.contains(ready), "{w}x{h}: {row}");
        }
    }
}

#[test]
fn the_canary_bar_tells_stable_from_canary_by_glyph() {
    for (w, h) in [(80, 24), (160, 48)] {
        let mut s = populated(w, h);
        press(&mut s, "]]3");
        update(&mut s, Event::Tick(now()));
        with_rollout(&mut s, Phase::Progressing, 88);
        let screen = screen_text(&s);
        let bar = screen
            .lines()
            .find(|l| l.contains("stable ") && l.contains(" canary "))
            .unwrap_or_else(|| panic!("{w}x{h}: no bar\n{screen}"));
        assert!(bar.contains("stable  80% █"), "{w}x{h}: {bar}");
        assert!(bar.contains("█▒"), "{w}x{h}: {bar}");
        assert!(bar.contains("▒ canary  20%"), "{w}x{h}: {bar}");
        let (stable, canary) = (bar.matches('█').count(), bar.matches('▒').count());
        assert!(stable > 3 * canary && canary > 0, "{w}x{h}: {bar}");
    }
}
