// Package boundaries holds no code: its tests state two rules of the
// repository's shape and fail when a change breaks them (docs/architecture.md
// explains both).
//
//   - Each table is written (INSERT, UPDATE, DELETE, COPY, TRUNCATE) by
//     exactly one package, its owner (tables_test.go: the table -> owner map
//     and a scanner of the non-test Go sources).
//   - A package imports nothing above it (imports_test.go: each package's
//     layer, and the packages the decision engine must not reach).
package boundaries
