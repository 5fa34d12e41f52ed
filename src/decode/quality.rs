//! Capture artefacts the decoder corrects before anything is analysed:
//! time stamps that go backwards.
//!
//! Contract: [`Timeline::place`] puts every frame on a non-decreasing
//! timeline, the time all analysis uses. A frame stamped earlier than the
//! frame before it (a clock step, captures merged out of order,
//! multi-queue capture) is placed at the previous frame's time, and the
//! frames after it keep their spacing from it until their own stamps catch
//! up with the timeline; so a block of frames stamped 2,410 s too early
//! keeps its internal timing and joins the rest of the capture where the
//! file puts it. Each such frame is reported as a [`TimeStep`]. It is O(1)
//! per frame, allocates nothing and cannot panic on any input.

/// A frame stamped earlier than the frame before it in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeStep {
    pub frame: u64,
    pub previous_frame: u64,
    /// How much earlier than the previous frame it is stamped (> 0).
    pub back_ns: i64,
    /// The frame's own time stamp.
    pub stamp_ns: i64,
    /// Where it was placed on the analysis timeline: the previous frame's time.
    pub placed_ns: i64,
}

/// The analysis timeline: see the module documentation.
#[derive(Debug, Default)]
pub struct Timeline {
    /// (frame, its stamp, its time on the timeline) of the previous frame.
    last: Option<(u64, i64, i64)>,
    /// What is added to stamps to place them: 0 while stamps are in order.
    offset: i64,
}

impl Timeline {
    /// The time of a frame stamped `stamp_ns` on the timeline, and the step
    /// back when its stamp is earlier than the previous frame's.
    pub fn place(&mut self, frame: u64, stamp_ns: i64) -> (i64, Option<TimeStep>) {
        let Some((last_frame, last_stamp, last_placed)) = self.last else {
            self.last = Some((frame, stamp_ns, stamp_ns));
            return (stamp_ns, None);
        };
        let (placed, step) = if stamp_ns >= last_placed {
            // The stamps are back in step with the timeline (or never left it).
            self.offset = 0;
            (stamp_ns, None)
        } else if stamp_ns >= last_stamp {
            // Later than the previous stamp: keep the spacing from it.
            (stamp_ns.saturating_add(self.offset).max(last_placed), None)
        } else {
            self.offset = last_placed.saturating_sub(stamp_ns);
            let step = TimeStep {
                frame,
                previous_frame: last_frame,
                back_ns: last_stamp.saturating_sub(stamp_ns),
                stamp_ns,
                placed_ns: last_placed,
            };
            (last_placed, Some(step))
        };
        self.last = Some((frame, stamp_ns, placed));
        (placed, step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_in_order_are_kept() {
        let mut t = Timeline::default();
        assert_eq!(t.place(1, 100), (100, None));
        assert_eq!(t.place(2, 100), (100, None));
        assert_eq!(t.place(3, 250), (250, None));
    }

    #[test]
    fn a_block_stamped_too_early_keeps_its_spacing_and_rejoins() {
        let mut t = Timeline::default();
        let s = 1_000_000_000i64;
        assert_eq!(t.place(1, 10 * s).0, 10 * s);
        // Frames 2-4 stamped 2,410 s too early, 1 s apart.
        let (p2, step) = t.place(2, 11 * s - 2410 * s);
        assert_eq!(p2, 10 * s);
        assert_eq!(
            step,
            Some(TimeStep {
                frame: 2,
                previous_frame: 1,
                back_ns: 2409 * s,
                stamp_ns: 11 * s - 2410 * s,
                placed_ns: 10 * s,
            })
        );
        assert_eq!(t.place(3, 12 * s - 2410 * s), (11 * s, None));
        assert_eq!(t.place(4, 13 * s - 2410 * s), (12 * s, None));
        // The clock is right again from frame 5.
        assert_eq!(t.place(5, 14 * s), (14 * s, None));
        assert_eq!(t.place(6, 15 * s), (15 * s, None));
    }

    #[test]
    fn a_frame_a_little_out_of_order_is_placed_at_the_previous_time() {
        let mut t = Timeline::default();
        t.place(1, 1_000);
        t.place(2, 2_000);
        let (p, step) = t.place(3, 1_500);
        assert_eq!(p, 2_000);
        assert_eq!(step.map(|s| s.back_ns), Some(500));
        assert_eq!(t.place(4, 2_100), (2_100, None));
    }

    #[test]
    fn a_permanent_step_back_shifts_everything_after_it() {
        let mut t = Timeline::default();
        t.place(1, 5_000);
        assert_eq!(t.place(2, 1_000).0, 5_000);
        assert_eq!(t.place(3, 1_300), (5_300, None));
        assert_eq!(t.place(4, 1_900), (5_900, None));
    }

    #[test]
    fn extreme_stamps_never_overflow_or_go_backwards() {
        let mut t = Timeline::default();
        let mut last = i64::MIN;
        for (i, s) in [i64::MAX, i64::MIN, 0, i64::MIN + 1, i64::MAX, -5]
            .into_iter()
            .enumerate()
        {
            let (p, _) = t.place(i as u64 + 1, s);
            assert!(p >= last);
            last = p;
        }
    }
}
