use super::*;

fn header() -> Header {
    Header {
        tracer: "0.1.0".into(),
        kernel: "6.1.0-test".into(),
        layout: "0123abcd".into(),
        clock_offset_ns: 1_700_000_000_000_000_000,
        started_ktime_ns: 5,
        target: "container web".into(),
        container: Some(Container {
            runtime: crate::model::Runtime::Podman,
            id: "abc".into(),
            name: "web".into(),
            pod: None,
        }),
        syscalls: vec![0, 257],
        string_size: 32,
    }
}

fn batch(records: &[&[u8]]) -> Vec<u8> {
    let mut b = Vec::new();
    for r in records {
        b.extend_from_slice(&(r.len() as u32).to_ne_bytes());
        b.extend_from_slice(r);
    }
    b
}

/// A small recording of every frame kind; the offsets where each frame ends.
fn sample() -> (Vec<u8>, Vec<usize>) {
    let mut w = Writer::new(Vec::new(), &header()).expect("header");
    let mut ends = vec![w.written() as usize];
    w.batch(&batch(&[b"first record", b"", b"third"]))
        .expect("batch");
    ends.push(w.written() as usize);
    w.lost(&Lost {
        count: 2,
        total: 3,
        ktime_ns: 99,
    })
    .expect("lost");
    ends.push(w.written() as usize);
    let pending = Pending {
        enter_ns: 7,
        args: [1, 2, 3, 4, 5, 6],
        nr: 35,
        ..Pending::default()
    };
    w.in_flight(&[InFlight {
        tid: 11,
        tgid: 10,
        cgroup_id: 4242,
        comm: *b"sleep\0\0\0\0\0\0\0\0\0\0\0",
        pending,
    }])
    .expect("in flight");
    ends.push(w.written() as usize);
    w.batch(&batch(&[b"last"])).expect("batch");
    ends.push(w.written() as usize);
    w.trailer(&Trailer {
        records: 4,
        lost: 3,
        ..Trailer::default()
    })
    .expect("trailer");
    ends.push(w.written() as usize);
    let bytes = w.out;
    assert_eq!(*ends.last().unwrap_or(&0), bytes.len());
    (bytes, ends)
}

/// Every frame up to the first error, and that error.
fn read_all(bytes: &[u8]) -> (Option<Header>, Vec<Frame>, Option<ReadError>) {
    let (mut r, h) = match Reader::open(bytes) {
        Ok(x) => x,
        Err(e) => return (None, Vec::new(), Some(e)),
    };
    let mut frames = Vec::new();
    loop {
        match r.next_frame() {
            Ok(Some(f)) => frames.push(f),
            Ok(None) => return (Some(h), frames, None),
            Err(e) => return (Some(h), frames, Some(e)),
        }
    }
}

#[test]
fn round_trips_every_frame_kind() {
    let (bytes, _) = sample();
    let (h, frames, err) = read_all(&bytes);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(h, Some(header()));
    assert_eq!(frames.len(), 5);
    let Frame::Batch(b) = &frames[0] else {
        panic!("batch first: {frames:?}")
    };
    let recs: Vec<&[u8]> = crate::bpf::reader::records(b).collect();
    assert_eq!(recs, [&b"first record"[..], b"", b"third"]);
    assert!(matches!(
        frames[1],
        Frame::Lost(Lost {
            count: 2,
            total: 3,
            ktime_ns: 99
        })
    ));
    let Frame::InFlight(calls) = &frames[2] else {
        panic!("in flight: {frames:?}")
    };
    assert_eq!(calls.len(), 1);
    let c = calls[0];
    assert_eq!((c.tid, c.tgid, c.cgroup_id), (11, 10, 4242));
    assert_eq!(&c.comm[..5], b"sleep");
    assert_eq!(
        (c.pending.enter_ns, c.pending.nr, c.pending.args),
        (7, 35, [1, 2, 3, 4, 5, 6])
    );
    let Frame::Trailer(t) = &frames[4] else {
        panic!("trailer last: {frames:?}")
    };
    assert_eq!((t.records, t.lost), (4, 3));
}

/// Cut at every byte: never a panic; every whole frame before the cut comes back, then one
/// error at the offset where the first incomplete frame starts.
#[test]
fn a_cut_anywhere_reads_every_whole_frame_before_it() {
    let (bytes, ends) = sample();
    for cut in 0..bytes.len() {
        let (h, frames, err) = read_all(&bytes[..cut]);
        let err = err.unwrap_or_else(|| panic!("cut at {cut}: no error"));
        if cut < ends[0] {
            assert!(h.is_none(), "cut at {cut}: header read from a cut header");
            assert!(err.offset() <= PRELUDE_LEN as u64, "cut at {cut}: {err}");
            continue;
        }
        let whole = ends[1..].iter().filter(|e| **e <= cut).count();
        assert_eq!(frames.len(), whole, "cut at {cut}: {err}");
        let frame_start = ends[..=whole].last().copied().unwrap_or(0);
        assert_eq!(err.offset(), frame_start as u64, "cut at {cut}: {err}");
        assert!(err.to_string().contains("cut short"), "cut at {cut}: {err}");
        assert!(!err.to_string().contains('\n'));
    }
}

#[test]
fn garbage_another_version_and_corruption_are_errors_with_offsets() {
    let (bytes, ends) = sample();
    let (_, _, err) = read_all(b"{\"type\":\"syscall\"}\n");
    let err = err.expect("garbage");
    assert_eq!(err.offset(), 0);
    assert!(err.to_string().contains("no magic number"), "{err}");
    assert!(read_all(b"").2.is_some(), "an empty file");

    let mut v2 = bytes.clone();
    v2[8] = 2;
    let err = read_all(&v2).2.expect("version 2");
    assert!(err.to_string().contains("format version 2"), "{err}");

    // A flipped payload byte in the second frame: the first comes back, then the checksum.
    let mut flipped = bytes.clone();
    flipped[ends[0] + FRAME_HEADER_LEN + 1] ^= 0x40;
    let (_, frames, err) = read_all(&flipped);
    assert_eq!(frames.len(), 0);
    let err = err.expect("corrupt");
    assert_eq!(err.offset(), ends[0] as u64);
    assert!(err.to_string().contains("checksum"), "{err}");

    // A zero-filled tail (a file system that kept the size but not the data).
    let mut zeros = bytes[..ends[2]].to_vec();
    zeros.extend_from_slice(&[0u8; 64]);
    let (_, frames, err) = read_all(&zeros);
    assert_eq!(frames.len(), 2);
    let err = err.expect("zeros");
    assert_eq!(err.offset(), ends[2] as u64);
    assert!(err.to_string().contains("not a frame"), "{err}");

    let mut after = bytes.clone();
    after.extend_from_slice(&bytes[ends[0]..ends[1]]);
    let err = read_all(&after).2.expect("after trailer");
    assert!(err.to_string().contains("after the trailer"), "{err}");
}

#[test]
fn arbitrary_bytes_after_the_prelude_never_panic() {
    let (bytes, ends) = sample();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for n in 0..2000 {
        let mut b = bytes[..ends[0]].to_vec();
        for _ in 0..(n % 97) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            b.push(seed as u8);
        }
        let _ = read_all(&b);
    }
}
