package spec

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The checks of single values. Each returns "" when the value is good and otherwise
// the message of the error, so that the decoder (which knows where the value is) and
// Validate (which may not) say the same thing.

// checkName checks a job name, module name or slot-sharing group: 1 to max of
// A-Z a-z 0-9 . _ -.
func checkName(what, s string, max int) string {
	if !validChars(s, max, "._-") {
		return fmt.Sprintf("invalid %s %q: use 1 to %d of A-Z a-z 0-9 . _ -", what, s, max)
	}
	return ""
}

// checkStepID checks a step id: 1 to 64 of A-Z a-z 0-9 _ -. Dots are left out so
// that ids can be joined with dots in metric names and subjects.
func checkStepID(s string) string {
	if !validChars(s, 64, "_-") {
		return fmt.Sprintf("invalid id %q: use 1 to 64 of A-Z a-z 0-9 _ -", s)
	}
	return ""
}

func validChars(s string, max int, extra string) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(extra, c) >= 0) {
			return false
		}
	}
	return true
}

// checkFunction checks a UDF's function name: 1 to 128 bytes of printable
// characters other than spaces. SDKs register functions by name, so the name's
// syntax is theirs; this only keeps out what could never be one.
func checkFunction(s string) string {
	ok := len(s) > 0 && len(s) <= 128 && utf8.ValidString(s)
	for _, r := range s {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			ok = false
		}
	}
	if !ok {
		return fmt.Sprintf("invalid function name %q: use 1 to 128 printable characters without spaces", s)
	}
	return ""
}

// checkDigest checks a hex sha256 digest.
func checkDigest(s string) string {
	if len(s) != 64 {
		return fmt.Sprintf("invalid digest %q: want 64 lowercase hex digits", s)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return fmt.Sprintf("invalid digest %q: want 64 lowercase hex digits", s)
		}
	}
	return ""
}

// splitModule splits a module reference, "name" or "name@sha256:<hex>", into its
// name and digest. It checks only the shape; checkName and checkDigest check the
// parts.
func splitModule(ref string) (name, digest, msg string) {
	name, pin, pinned := strings.Cut(ref, "@")
	if !pinned {
		return name, "", ""
	}
	digest, ok := strings.CutPrefix(pin, "sha256:")
	if !ok || checkDigest(digest) != "" {
		return name, "", fmt.Sprintf("invalid module reference %q: want name or name@sha256:<64 lowercase hex digits>", ref)
	}
	return name, digest, ""
}

// checkStream checks a JetStream stream name as nats-server does: no spaces, dots,
// wildcards, path separators or control characters, at most 255 bytes.
func checkStream(s string) string {
	ok := len(s) > 0 && len(s) <= 255 && utf8.ValidString(s)
	for _, r := range s {
		if r <= ' ' || r == 0x7f || strings.ContainsRune(".*>/\\", r) || !unicode.IsPrint(r) {
			ok = false
		}
	}
	if !ok {
		return fmt.Sprintf("invalid stream name %q: use 1 to 255 characters without spaces, '.', '*', '>', '/' or '\\'", s)
	}
	return ""
}

// checkSubject checks a NATS subject: dot-separated non-empty tokens without spaces
// or control characters. With wildcards, '*' may stand for a whole token and '>' for
// the last; without, neither may appear.
func checkSubject(s string, wildcards bool) string {
	bad := len(s) == 0 || len(s) > 4096 || !utf8.ValidString(s)
	tokens := strings.Split(s, ".")
	for i, t := range tokens {
		switch {
		case t == "":
			bad = true
		case t == "*" || t == ">":
			if !wildcards {
				return fmt.Sprintf("subject %q has a wildcard; a sink publishes to one subject", s)
			}
			if t == ">" && i != len(tokens)-1 {
				bad = true
			}
		case strings.ContainsAny(t, "*>"):
			bad = true
		}
		for _, r := range t {
			if r <= ' ' || r == 0x7f || !unicode.IsPrint(r) {
				bad = true
			}
		}
	}
	if bad {
		if wildcards {
			return fmt.Sprintf("invalid subject filter %q: want dot-separated tokens without spaces, '*' for a whole token, '>' for the last", s)
		}
		return fmt.Sprintf("invalid subject %q: want dot-separated tokens without spaces or wildcards", s)
	}
	return ""
}

func checkIntRange(v, lo, hi int64) string {
	if v < lo || v > hi {
		return fmt.Sprintf("must be between %d and %d, got %d", lo, hi, v)
	}
	return ""
}

func checkMemory(v int64) string {
	if v < minMemory || v > maxMemory {
		return fmt.Sprintf("must be between %s and %s, got %s", formatSize(minMemory), formatSize(maxMemory), formatSize(v))
	}
	return ""
}

func checkCallTimeout(v time.Duration) string {
	if v < minCallTimeout || v > maxCallTimeout {
		return fmt.Sprintf("must be between %v and %v, got %v", minCallTimeout, maxCallTimeout, v)
	}
	return ""
}

func checkBufferTimeout(v time.Duration) string {
	if v < 0 {
		return fmt.Sprintf("must not be negative, got %v", v)
	}
	return ""
}

// checkJSONField checks the name of the member a key_by reads: 1 to 256 bytes of
// UTF-8.
func checkJSONField(s string) string {
	switch {
	case s == "":
		return "must name a member of the payload, not be empty"
	case len(s) > maxJSONField || !utf8.ValidString(s):
		return fmt.Sprintf("invalid field name %s: use 1 to %d bytes of UTF-8", quote(s), maxJSONField)
	}
	return ""
}

const maxJSONField = 256

// Bounds of the restart strategies' durations, by parameter.
var restartDurations = map[string][2]time.Duration{
	"delay":       {0, 24 * time.Hour},
	"initial":     {time.Millisecond, 24 * time.Hour},
	"max":         {time.Millisecond, 24 * time.Hour},
	"reset_after": {time.Millisecond, 720 * time.Hour},
	"interval":    {time.Millisecond, 720 * time.Hour},
}

func checkRestartDuration(param string, v time.Duration) string {
	b := restartDurations[param]
	if v < b[0] || v > b[1] {
		return fmt.Sprintf("must be between %v and %v, got %v", b[0], b[1], v)
	}
	return ""
}

func checkMultiplier(v float64) string {
	if !(v >= 1 && v <= 1000) {
		return fmt.Sprintf("must be between 1 and 1000, got %v", v)
	}
	return ""
}

// checkCheckpointInterval checks a checkpoint interval.
func checkCheckpointInterval(v time.Duration) string {
	return checkDurationRange(v, minCheckpointInterval, 24*time.Hour)
}

// checkDurationRange checks that lo <= v <= hi.
func checkDurationRange(v, lo, hi time.Duration) string {
	if v < lo || v > hi {
		return fmt.Sprintf("must be between %v and %v, got %v", lo, hi, v)
	}
	return ""
}

// checkSavepointID checks a savepoint id as the control plane makes them.
func checkSavepointID(v string) string {
	if job, id, ok := strings.Cut(v, "/"); ok {
		if _, err := strconv.ParseUint(id, 10, 64); err == nil && validChars(job, 128, "_-") {
			return ""
		}
		return fmt.Sprintf("invalid retained checkpoint %q: write <job id>/<checkpoint id>, as GET /jobs/{id}/checkpoints lists them", v)
	}
	if !validChars(v, 128, "_-") {
		return fmt.Sprintf("invalid savepoint id %q: use the id POST /jobs/{id}/savepoints returned (sp-...), or <job id>/<checkpoint id> for a retained checkpoint", v)
	}
	return ""
}

// RetainedCheckpoint splits a from_savepoint naming a retained checkpoint,
// "<job id>/<checkpoint id>"; ok is false for a savepoint id.
func RetainedCheckpoint(v string) (jobID string, id uint64, ok bool) {
	job, n, found := strings.Cut(v, "/")
	if !found {
		return "", 0, false
	}
	id, err := strconv.ParseUint(n, 10, 64)
	return job, id, err == nil
}
