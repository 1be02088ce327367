"""Drives a ClickHouse HTTP endpoint with clickhouse-connect as a notebook user does: the
driver's defaults (compression on, so lz4 inserts and compressed results; Native inserts),
then a pandas DataFrame round trip. Prints one JSON object of what it saw and how long it took.

Environment: CH_HOST, CH_PORT, CH_USER, CH_PASSWORD, ROWS."""
import json
import os
import time

import clickhouse_connect
import numpy as np
import pandas as pd

rows = int(os.environ.get('ROWS', '200000'))
client = clickhouse_connect.get_client(
    host=os.environ.get('CH_HOST', '127.0.0.1'),
    port=int(os.environ['CH_PORT']),
    username=os.environ.get('CH_USER', 'default'),
    password=os.environ.get('CH_PASSWORD', ''),
)
out = {'version': client.server_version, 'user': client.query('SELECT currentUser()').result_rows[0][0]}

client.command('CREATE DATABASE IF NOT EXISTS interop')
client.command('DROP TABLE IF EXISTS interop.connect_rows')
client.command('CREATE TABLE interop.connect_rows (id UInt64, name String, amount Float64) ENGINE = MergeTree ORDER BY id')
data = [(i, f'customer-{i}', i * 0.5) for i in range(rows)]
started = time.monotonic()
summary = client.insert('interop.connect_rows', data, column_names=['id', 'name', 'amount'])
out['insert_seconds'] = time.monotonic() - started
out['written_rows'] = summary.written_rows
count, sum_id, sum_amount = client.query('SELECT count(), sum(id), sum(amount) FROM interop.connect_rows').result_rows[0]
out.update(count=count, sum_id=sum_id, sum_amount=sum_amount)
started = time.monotonic()
back = client.query('SELECT id, name, amount FROM interop.connect_rows ORDER BY id').result_rows
out['query_seconds'] = time.monotonic() - started
out['read_rows'] = len(back)
out['read_matches'] = back == data

# without compression too: the body is Native, streamed (it failed past 2 570 rows when it was not)
plain = clickhouse_connect.get_client(
    host=os.environ.get('CH_HOST', '127.0.0.1'),
    port=int(os.environ['CH_PORT']),
    username=os.environ.get('CH_USER', 'default'),
    password=os.environ.get('CH_PASSWORD', ''),
    compress=False,
)
plain.command('TRUNCATE TABLE interop.connect_rows')
plain.insert('interop.connect_rows', data, column_names=['id', 'name', 'amount'])
out['uncompressed_count'] = plain.query('SELECT count() FROM interop.connect_rows').result_rows[0][0]

frame = pd.DataFrame({
    'id': np.arange(rows, dtype='uint64'),
    'segment': [('vip', 'regular', 'at-risk')[i % 3] for i in range(rows)],
    'score': np.arange(rows, dtype='float64') / 4,
})
client.command('DROP TABLE IF EXISTS interop.frames')
client.command('CREATE TABLE interop.frames (id UInt64, segment String, score Float64) ENGINE = MergeTree ORDER BY id')
started = time.monotonic()
client.insert_df('interop.frames', frame)
out['insert_df_seconds'] = time.monotonic() - started
returned = client.query_df('SELECT id, segment, score FROM interop.frames ORDER BY id')
out['df_rows'] = len(returned)
# query_df gives strings pandas' string dtype (as against a server); the values must be the same
out['df_equal'] = bool(returned.astype({'segment': object}).reset_index(drop=True).equals(frame))
out['df_dtypes'] = {name: str(dtype) for name, dtype in returned.dtypes.items()}
out['df_score_sum'] = float(returned['score'].sum())
out['df_vip'] = int((returned['segment'] == 'vip').sum())
print(json.dumps(out))
