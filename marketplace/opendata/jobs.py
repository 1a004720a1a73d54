from marketplace.opendata.exports import rebuild_ocds_bulk

JOBS = [rebuild_ocds_bulk]
