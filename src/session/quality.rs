//! The capture's own quality, as facts: frames it holds twice, time stamps
//! that go backwards, IP fragments the snaplen cut, and how the file ended.
//!
//! Contract: [`CaptureQuality`] records what the decoder reported (see
//! `crate::decode::quality`), capped so memory stays flat on huge captures,
//! and judges nothing; the `CAP` rules in `diag` do. Duplicate frames were
//! already dropped by the decoder, so nothing else in the [`super::Analysis`]
//! counts them; times elsewhere are on the decoder's non-decreasing
//! timeline.

use std::collections::HashMap;

use serde::Serialize;

use crate::capture::CaptureError;
use crate::decode::{DuplicateFrame, TimeStep};
use crate::defrag::FragKey;

/// Duplicate frames and time steps kept (the rest are counted).
pub const MAX_KEPT: usize = 1_000;
/// Fragment sets whose snaplen-cut fragments are remembered.
const MAX_CUT_SETS: usize = 20_000;
/// Frames remembered per cut fragment set.
const MAX_CUT_FRAMES: usize = 64;

/// A frame dropped as a copy of an earlier one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DuplicateFact {
    pub frame: u64,
    pub original: u64,
    pub gap_ns: i64,
}

/// A frame stamped earlier than the frame before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TimeStepFact {
    pub frame: u64,
    pub previous_frame: u64,
    /// How much earlier than the previous frame it is stamped.
    pub back_ns: i64,
    /// Its own stamp, and the time it was given on the timeline.
    pub stamp_ns: i64,
    pub placed_ns: i64,
}

/// How a read error ended the capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileEndKind {
    /// The file ends inside a record or a header (cut short).
    Truncated,
    /// The bytes stop making sense (damaged, or not written yet).
    Corrupt,
    /// The operating system could not read on.
    Io,
}

/// The read error that ended the capture before its end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileEnd {
    pub kind: FileEndKind,
    /// The last frame read (Wireshark's number).
    pub after_frame: u64,
    /// Byte offset of the damage (in the decompressed stream).
    pub offset: u64,
}

/// The capture's quality facts.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CaptureQuality {
    /// Frames dropped as copies, the first [`MAX_KEPT`].
    pub duplicates: Vec<DuplicateFact>,
    pub duplicates_total: u64,
    /// The largest time between a copy and its original.
    pub duplicate_max_gap_ns: i64,
    /// Frames stamped earlier than the frame before, the first [`MAX_KEPT`].
    pub time_steps: Vec<TimeStepFact>,
    pub time_steps_total: u64,
    /// The largest step back.
    pub time_step_max: Option<TimeStepFact>,
    /// Set when a read error ended the capture.
    pub file_end: Option<FileEnd>,
    /// IP fragments cut by the snaplen (not reassembled), by fragment set.
    #[serde(skip)]
    cut_fragments: HashMap<FragKey, Vec<u64>>,
}

impl CaptureQuality {
    pub(crate) fn on_duplicate(&mut self, d: &DuplicateFrame) {
        self.duplicates_total += 1;
        self.duplicate_max_gap_ns = self.duplicate_max_gap_ns.max(d.gap_ns);
        if self.duplicates.len() < MAX_KEPT {
            self.duplicates.push(DuplicateFact {
                frame: d.frame,
                original: d.original,
                gap_ns: d.gap_ns,
            });
        }
    }

    pub(crate) fn on_time_step(&mut self, s: &TimeStep) {
        let fact = TimeStepFact {
            frame: s.frame,
            previous_frame: s.previous_frame,
            back_ns: s.back_ns,
            stamp_ns: s.stamp_ns,
            placed_ns: s.placed_ns,
        };
        self.time_steps_total += 1;
        if self.time_step_max.is_none_or(|m| s.back_ns > m.back_ns) {
            self.time_step_max = Some(fact);
        }
        if self.time_steps.len() < MAX_KEPT {
            self.time_steps.push(fact);
        }
    }

    pub(crate) fn on_fragment_cut(&mut self, frame: u64, key: &FragKey) {
        let full = self.cut_fragments.len() >= MAX_CUT_SETS;
        match self.cut_fragments.get_mut(key) {
            Some(v) if v.len() < MAX_CUT_FRAMES => v.push(frame),
            Some(_) => {}
            None if full => {}
            None => {
                self.cut_fragments.insert(*key, vec![frame]);
            }
        }
    }

    /// Frames of the fragment set `key` that the snaplen cut.
    pub(crate) fn cut_frames(&self, key: &FragKey) -> Vec<u64> {
        self.cut_fragments.get(key).cloned().unwrap_or_default()
    }

    pub(crate) fn on_read_error(&mut self, after_frame: u64, e: &CaptureError) {
        let kind = match e {
            CaptureError::Truncated { .. } => FileEndKind::Truncated,
            CaptureError::Corrupt { .. } | CaptureError::NotACapture { .. } => FileEndKind::Corrupt,
            CaptureError::Io { .. } => FileEndKind::Io,
        };
        self.file_end = Some(FileEnd {
            kind,
            after_frame,
            offset: e.offset(),
        });
    }
}
