// Validates a Frictionless data package with the datapackage library (npm datapackage,
// pinned in scripts/contracts.sh): the descriptor against the tabular-data-package
// profile, then every row of every tabular resource against its Table Schema (types,
// constraints, primary key) with its foreign keys resolved. Usage:
//   NODE_PATH=.tools/node_modules node scripts/validate-datapackage.js DIR/datapackage.json
'use strict'
const { Package } = require('datapackage')

async function main(path) {
  const pkg = await Package.load(path, { strict: false })
  if (!pkg.valid) {
    for (const e of pkg.errors) console.error(`${path}: ${e.message}`)
    return 1
  }
  let failed = 0
  for (const res of pkg.resources) {
    if (!res.tabular) continue
    let rows = 0
    try {
      // relations: true resolves every foreign key against the resource it names.
      // iter streams the rows, so memory stays flat however large the file.
      const stream = await res.iter({ relations: true, cast: true })
      for await (const row of stream) { // eslint-disable-line no-unused-vars
        rows++
      }
      console.log(`${res.name}: ${rows} rows valid`)
    } catch (e) {
      failed++
      const errs = e.errors && e.errors.length ? e.errors : [e]
      for (const x of errs.slice(0, 10)) {
        console.error(`${res.name}: after ${rows} good rows: ${x.message || x.toString() || JSON.stringify(x)}`)
      }
    }
  }
  return failed ? 1 : 0
}

main(process.argv[2]).then(code => process.exit(code), e => { console.error(e); process.exit(1) })
