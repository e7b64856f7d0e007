package msi

import (
	"encoding/binary"
	"fmt"
)

// Column type bits, as stored in _Columns.Type.
const (
	colSizeMask  = 0x00FF
	colValid     = 0x0100
	colString    = 0x0800
	colNullable  = 0x1000
	colKey       = 0x2000
	colTemporary = 0x4000
)

// Column describes one table column.
type Column struct {
	Name string
	Type int // raw _Columns.Type: size in the low byte, then flags
}

// IsString reports a string column (stored as a string pool reference).
func (c Column) IsString() bool { return c.Type&colString != 0 && !c.isBinary() }

func (c Column) isBinary() bool { return c.Type&^colNullable == colString|colValid }

// width returns how many bytes a cell of c takes in the table stream.
func (c Column) width(refSize int) int {
	switch {
	case c.isBinary():
		return 2 // a stream column holds a placeholder
	case c.Type&colString != 0:
		return refSize
	case c.Type&colSizeMask <= 2:
		return 2
	default:
		return 4
	}
}

// Table is one table's rows, held in memory (tables are small; each is
// read whole and capped at maxStream bytes). Cells are stored column by
// column.
type Table struct {
	Name    string
	Columns []Column
	rows    int
	data    []byte
	starts  []int // byte offset of each column's first cell
	widths  []int
	pool    *stringPool
}

// newTable lays out the stream data of a table with the given columns.
func newTable(name string, cols []Column, data []byte, pool *stringPool) (*Table, error) {
	t := &Table{Name: name, Columns: cols, data: data, pool: pool}
	rowSize := 0
	for _, c := range cols {
		w := c.width(pool.refSize)
		t.widths = append(t.widths, w)
		rowSize += w
	}
	if rowSize == 0 {
		return nil, formatErr("table %s has no columns", name)
	}
	// Windows Installer ignores a trailing partial row; so do we.
	t.rows = len(data) / rowSize
	off := 0
	for _, w := range t.widths {
		t.starts = append(t.starts, off)
		off += w * t.rows
	}
	return t, nil
}

// Rows returns the number of rows.
func (t *Table) Rows() int { return t.rows }

// Column returns the index of the column named name, or -1.
func (t *Table) Column(name string) int {
	for i, c := range t.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// cell returns the raw value of a cell: an integer as stored (biased), or
// a string id.
func (t *Table) cell(row, col int) uint32 {
	w := t.widths[col]
	b := t.data[t.starts[col]+row*w:]
	switch w {
	case 2:
		return uint32(binary.LittleEndian.Uint16(b))
	case 3:
		return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16
	default:
		return binary.LittleEndian.Uint32(b)
	}
}

// String returns a string cell; null is "". A reference past the string
// pool is ErrFormat.
func (t *Table) String(row, col int) (string, error) {
	s, err := t.str(row, col)
	if err != nil {
		return "", fmt.Errorf("msi: %w", err)
	}
	return s, nil
}

// Int returns an integer cell; ok is false for null.
func (t *Table) Int(row, col int) (v int32, ok bool, err error) {
	v, ok, err = t.integer(row, col)
	if err != nil {
		return 0, false, fmt.Errorf("msi: %w", err)
	}
	return v, ok, nil
}

func (t *Table) str(row, col int) (string, error) {
	if err := t.check(row, col); err != nil {
		return "", err
	}
	if !t.Columns[col].IsString() {
		return "", fmt.Errorf("table %s column %s is not a string column", t.Name, t.Columns[col].Name)
	}
	id := t.cell(row, col)
	s, ok := t.pool.get(id)
	if !ok {
		return "", formatErr("table %s row %d column %s: string %d not in the pool", t.Name, row, t.Columns[col].Name, id)
	}
	return s, nil
}

func (t *Table) integer(row, col int) (int32, bool, error) {
	if err := t.check(row, col); err != nil {
		return 0, false, err
	}
	if t.Columns[col].Type&colString != 0 {
		return 0, false, fmt.Errorf("table %s column %s is not an integer column", t.Name, t.Columns[col].Name)
	}
	raw := t.cell(row, col)
	if raw == 0 {
		return 0, false, nil
	}
	if t.widths[col] == 2 {
		return int32(int16(uint16(raw) ^ 0x8000)), true, nil
	}
	return int32(raw ^ 0x80000000), true, nil
}

func (t *Table) check(row, col int) error {
	if row < 0 || row >= t.rows || col < 0 || col >= len(t.Columns) {
		return fmt.Errorf("table %s has no cell (%d, %d)", t.Name, row, col)
	}
	return nil
}
