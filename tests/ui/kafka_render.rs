//! Render snapshots of the Kafka pane at 80×24 and 160×48: dev's consumer groups (the
//! empty metadata-catalog-consumer with lag and its last minutes, the live
//! graphql-gateway-cache) over the selected group's partitions; the topics view against
//! the backup; and the reset prompt with its datetime in UTC.

use crossterm::event::KeyCode;
use rollcall_testkit::kafka_state::with_kafka;
use rollcall_testkit::state::*;

#[test]
fn kafka_pane_at_two_sizes() {
    for (w, h) in SIZES {
        let mut s = populated(w, h);
        with_kafka(&mut s, 0);
        press(&mut s, "K");
        insta::assert_snapshot!(format!("kafka_groups_{w}x{h}"), draw(&s).backend());
        let text = screen_text(&s);
        assert!(text.contains("metadata-catalog-consumer"), "{text}");
        assert!(text.contains("Empty"), "{text}");
        assert!(text.contains("1180"), "{text}");
        press(&mut s, "D");
        insta::assert_snapshot!(format!("kafka_topics_{w}x{h}"), draw(&s).backend());
        let text = screen_text(&s);
        assert!(text.contains("604800000 → 259200000"), "{text}");
        press(&mut s, "D");
        press(&mut s, "t");
        insta::assert_snapshot!(format!("kafka_reset_prompt_{w}x{h}"), draw(&s).backend());
        let text = screen_text(&s);
        assert!(text.contains("2026-11-26T13:02:11.000Z"), "{text}");
        assert!(text.contains("(UTC)"), "{text}");
        key(&mut s, KeyCode::Esc);
    }
}

#[test]
fn an_environment_without_kafka_says_so() {
    let mut s = populated(80, 24);
    s.envs[0].config.kafka = None;
    press(&mut s, "K");
    let text = screen_text(&s);
    assert!(
        text.contains("dev has no Kafka (kafka: in environments.yaml)"),
        "{text}"
    );
}

#[test]
fn before_the_first_read_it_says_it_is_reading() {
    let mut s = populated(160, 48);
    press(&mut s, "K");
    let text = screen_text(&s);
    assert!(text.contains("reading the consumer groups…"), "{text}");
}
