package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"
)

// Parse reads a job spec, YAML or JSON, and returns the job with its defaults
// filled in and validated. Every error is a *Error naming the field and its
// position. Problems with the document's shape (YAML syntax, unknown keys, types,
// values) are reported before problems with the job as a whole (inputs, sources,
// sinks); among either, the first by position.
func Parse(data []byte) (*Job, error) {
	j, errs := parse(data)
	if err := first(errs); err != nil {
		return nil, err
	}
	return j, nil
}

// parse returns the job, or every problem of the first phase that has any, sorted.
func parse(data []byte) (*Job, []*Error) {
	root, err := load(data)
	if err != nil {
		return nil, []*Error{err}
	}
	d := newDecoder()
	j := d.job(root)
	if d.exhausted != nil {
		return nil, []*Error{d.exhausted}
	}
	if len(d.errs) > 0 {
		sortErrors(d.errs)
		return nil, d.errs
	}
	j.Defaults()
	if errs := j.validate(d.pos); len(errs) > 0 {
		return nil, errs
	}
	return j, nil
}

// load parses the document and returns its root node, a mapping or not.
func load(data []byte) (root *yaml.Node, err *Error) {
	data = jsonCompat(data)
	// yaml.v3 turns its own failures into errors; a panic that escaped it anyway
	// must not take the server down with it.
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, &Error{Msg: fmt.Sprintf("invalid YAML: %v", r)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	switch e := dec.Decode(&doc); {
	case errors.Is(e, io.EOF):
		return nil, errEmpty()
	case e != nil:
		return nil, yamlError(data, e)
	}
	var next yaml.Node
	switch e := dec.Decode(&next); {
	case e == nil:
		return nil, &Error{Msg: "more than one YAML document; a job spec is one document", Line: next.Line, Column: next.Column}
	case !errors.Is(e, io.EOF):
		return nil, yamlError(data, e)
	}
	if len(doc.Content) == 0 {
		return nil, errEmpty()
	}
	root = doc.Content[0]
	if r := deref(root); r.Kind == yaml.ScalarNode && r.ShortTag() == "!!null" {
		return nil, errEmpty()
	}
	return root, nil
}

func errEmpty() *Error {
	return &Error{Msg: "empty job spec: want a mapping with at least name and pipeline"}
}
