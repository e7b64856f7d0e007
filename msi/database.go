package msi

import (
	"fmt"
	"io"
	"slices"
)

// Database is an opened MSI: its streams, string pool and table schema.
// It reads through the io.ReaderAt given to Open, which must stay usable
// while the Database is; a Database is not safe for concurrent use.
type Database struct {
	cf      *compound
	streams map[streamName]uint32 // root-level streams by decoded name
	pool    *stringPool
	tables  []string            // _Tables, in stored order
	schema  map[string][]Column // _Columns, by table
}

// maxColumns bounds a table's columns (Windows Installer allows 32).
const maxColumns = 255

// Open reads the compound file structure, the string pool and the table
// schema of the MSI held in r (size bytes).
func Open(r io.ReaderAt, size int64) (*Database, error) {
	db, err := open(r, size)
	if err != nil {
		return nil, fmt.Errorf("msi: %w", err)
	}
	return db, nil
}

func open(r io.ReaderAt, size int64) (*Database, error) {
	cf, err := openCompound(r, size)
	if err != nil {
		return nil, err
	}
	db := &Database{cf: cf, streams: make(map[streamName]uint32), schema: make(map[string][]Column)}
	ids, err := cf.rootChildren()
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		e := &cf.entries[id]
		if e.typ != typeStream {
			continue
		}
		n := decodeName(e.name)
		if _, dup := db.streams[n]; !dup {
			db.streams[n] = id
		}
	}
	pool, err := db.stream(streamName{"_StringPool", true}, maxPoolBytes)
	if err != nil {
		return nil, err
	}
	data, err := db.stream(streamName{"_StringData", true}, maxDataBytes)
	if err != nil {
		return nil, err
	}
	if db.pool, err = parseStringPool(pool, data); err != nil {
		return nil, err
	}
	if err := db.readSchema(); err != nil {
		return nil, err
	}
	return db, nil
}

// stream reads a root-level stream whole; a missing one is ErrFormat.
func (db *Database) stream(n streamName, limit int64) ([]byte, error) {
	id, ok := db.streams[n]
	if !ok {
		return nil, formatErr("no %s stream", n.name)
	}
	b, err := db.cf.readStream(&db.cf.entries[id], limit)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", n.name, err)
	}
	return b, nil
}

// readSchema loads _Tables and _Columns.
func (db *Database) readSchema() error {
	s := colString | colValid
	i2 := colValid | 2
	tablesData, err := db.stream(streamName{"_Tables", true}, maxStream)
	if err != nil {
		return err
	}
	tt, err := newTable("_Tables", []Column{{"Name", s | colKey | 64}}, tablesData, db.pool)
	if err != nil {
		return err
	}
	for row := range tt.Rows() {
		name, err := tt.str(row, 0)
		if err != nil {
			return err
		}
		db.tables = append(db.tables, name)
	}
	colsData, err := db.stream(streamName{"_Columns", true}, maxStream)
	if err != nil {
		return err
	}
	ct, err := newTable("_Columns", []Column{
		{"Table", s | colKey | 64}, {"Number", i2 | colKey}, {"Name", s | 64}, {"Type", i2},
	}, colsData, db.pool)
	if err != nil {
		return err
	}
	type numbered struct {
		n   int32
		col Column
	}
	byTable := make(map[string][]numbered)
	for row := range ct.Rows() {
		table, err1 := ct.str(row, 0)
		num, ok1, err2 := ct.integer(row, 1)
		name, err3 := ct.str(row, 2)
		typ, ok2, err4 := ct.integer(row, 3)
		if err := firstErr(err1, err2, err3, err4); err != nil {
			return err
		}
		if !ok1 || !ok2 || table == "" || name == "" {
			return formatErr("_Columns row %d is incomplete", row)
		}
		byTable[table] = append(byTable[table], numbered{num, Column{Name: name, Type: int(uint16(typ))}})
	}
	for table, cols := range byTable {
		if len(cols) > maxColumns {
			return formatErr("table %s has %d columns", table, len(cols))
		}
		slices.SortFunc(cols, func(a, b numbered) int { return int(a.n - b.n) })
		out := make([]Column, len(cols))
		for i, c := range cols {
			if c.n != int32(i+1) {
				return formatErr("table %s: column numbers are not 1..%d", table, len(cols))
			}
			out[i] = c.col
		}
		db.schema[table] = out
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// HasTable reports whether the database defines table name.
func (db *Database) HasTable(name string) bool { return slices.Contains(db.tables, name) }

// Table reads table name. A defined table without a stream has no rows;
// an undefined one is ErrNoTable.
func (db *Database) Table(name string) (*Table, error) {
	if !db.HasTable(name) {
		return nil, fmt.Errorf("msi: %w: %s", ErrNoTable, name)
	}
	cols, ok := db.schema[name]
	if !ok {
		return nil, fmt.Errorf("msi: %w", formatErr("table %s has no columns in _Columns", name))
	}
	var data []byte
	if _, ok := db.streams[streamName{name, true}]; ok {
		var err error
		if data, err = db.stream(streamName{name, true}, maxStream); err != nil {
			return nil, fmt.Errorf("msi: %w", err)
		}
	}
	t, err := newTable(name, cols, data, db.pool)
	if err != nil {
		return nil, fmt.Errorf("msi: %w", err)
	}
	return t, nil
}

// Properties returns the Property table as a map. A database without a
// Property table has no properties.
func (db *Database) Properties() (map[string]string, error) {
	out := make(map[string]string)
	if !db.HasTable("Property") {
		return out, nil
	}
	t, err := db.Table("Property")
	if err != nil {
		return nil, err
	}
	k, v := t.Column("Property"), t.Column("Value")
	if k < 0 || v < 0 {
		return nil, fmt.Errorf("msi: %w", formatErr("Property table without Property and Value columns"))
	}
	for row := range t.Rows() {
		name, err := t.String(row, k)
		if err != nil {
			return nil, err
		}
		value, err := t.String(row, v)
		if err != nil {
			return nil, err
		}
		if _, dup := out[name]; !dup {
			out[name] = value
		}
	}
	return out, nil
}
