package spec

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// sizeUnits are the units ParseSize accepts: binary (KiB = 1024) and decimal (KB =
// 1000), case-sensitive, because "Mb" and "MB" mean different things to people.
var sizeUnits = []struct {
	suffix string
	factor int64
}{
	// Longer suffixes first, so that "MiB" is not read as "M" + "iB".
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"B", 1},
}

var errSize = errors.New("spec: invalid size")

// ParseSize parses a size in bytes: a non-negative integer, optionally followed by a
// unit (B, KiB, MiB, GiB, TiB, or decimal KB, MB, GB, TB), with an optional space
// between: "64MiB", "1GiB", "512 KiB", "100MB", "1048576".
func ParseSize(s string) (int64, error) {
	num, factor := s, int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(s, u.suffix) {
			num, factor = strings.TrimSuffix(strings.TrimSuffix(s, u.suffix), " "), u.factor
			break
		}
	}
	if num == "" || num[0] < '0' || num[0] > '9' {
		return 0, fmt.Errorf("%w %q", errSize, s)
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w %q", errSize, s)
	}
	if n > math.MaxInt64/factor {
		return 0, fmt.Errorf("%w %q: too large", errSize, s)
	}
	return n * factor, nil
}

// formatSize renders bytes for messages: in the largest binary unit that divides it.
func formatSize(n int64) string {
	for _, u := range []struct {
		suffix string
		factor int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n != 0 && n%u.factor == 0 {
			return strconv.FormatInt(n/u.factor, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}
