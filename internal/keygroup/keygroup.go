package keygroup

import (
	"fmt"

	"github.com/twmb/murmur3"
)

// MaxParallelism is the largest number of key groups a job may have.
const MaxParallelism = 32768

// Check reports whether maxP key groups and parallelism p are a valid pair:
// 1 <= maxP <= MaxParallelism and 1 <= p <= maxP.
func Check(maxP, p int) error {
	if maxP < 1 || maxP > MaxParallelism {
		return fmt.Errorf("keygroup: max parallelism %d out of range 1..%d", maxP, MaxParallelism)
	}
	if p < 1 || p > maxP {
		return fmt.Errorf("keygroup: parallelism %d out of range 1..%d (the max parallelism)", p, maxP)
	}
	return nil
}

// Hash is murmur3_32 of key with seed 0, the hash a key group is taken from.
func Hash(key []byte) uint32 { return murmur3.Sum32(key) }

// Of returns the key group of key among maxP key groups.
func Of(key []byte, maxP int) int {
	return int(murmur3.Sum32(key) % uint32(maxP))
}

// Subtask returns the subtask, of p, that owns key group kg of maxP.
func Subtask(kg, maxP, p int) int {
	// kg < 2^15 and p <= 2^15, so the product fits easily in an int.
	return kg * p / maxP
}

// SubtaskOf returns the subtask, of p, that owns key: Subtask(Of(key, maxP), maxP, p).
func SubtaskOf(key []byte, maxP, p int) int {
	return Subtask(Of(key, maxP), maxP, p)
}

// Range returns the first and last key group (both included) owned by subtask i
// of p when there are maxP key groups.
func Range(i, maxP, p int) (first, last int) {
	first = (i*maxP + p - 1) / p  // ceil(i*maxP/p)
	last = ((i+1)*maxP+p-1)/p - 1 // ceil((i+1)*maxP/p) - 1
	return first, last
}
