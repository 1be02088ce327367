import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Properties;

/**
 * Drives a ClickHouse HTTP endpoint through ClickHouse's JDBC driver (com.clickhouse:clickhouse-jdbc),
 * with its defaults, as DBeaver, Metabase and Grafana do: metadata, a batched prepared INSERT,
 * and queries read back through a ResultSet. Prints one JSON object of what it saw.
 * Run as a single source file: java -cp '<driver jars>/*' JdbcClient.java
 * Environment: CH_HOST, CH_PORT, CH_USER, CH_PASSWORD, ROWS.
 */
public class JdbcClient {
  public static void main(String[] args) throws Exception {
    int rows = Integer.parseInt(System.getenv().getOrDefault("ROWS", "200000"));
    String url = "jdbc:clickhouse://" + System.getenv().getOrDefault("CH_HOST", "127.0.0.1") + ":" + System.getenv("CH_PORT") + "/default";
    Properties props = new Properties();
    props.setProperty("user", System.getenv().getOrDefault("CH_USER", "default"));
    props.setProperty("password", System.getenv().getOrDefault("CH_PASSWORD", ""));
    // Extra driver properties, `name=value;name=value` (e.g. compress_client_request=true for LZ4-framed request bodies).
    for (String pair : System.getenv().getOrDefault("JDBC_PROPERTIES", "").split(";")) {
      if (pair.contains("=")) props.setProperty(pair.substring(0, pair.indexOf('=')), pair.substring(pair.indexOf('=') + 1));
    }
    StringBuilder out = new StringBuilder("{");
    try (Connection conn = DriverManager.getConnection(url, props)) {
      out.append("\"product\":\"").append(conn.getMetaData().getDatabaseProductName()).append(' ')
          .append(conn.getMetaData().getDatabaseProductVersion()).append("\",");
      out.append("\"driver\":\"").append(conn.getMetaData().getDriverVersion()).append("\",");
      try (Statement st = conn.createStatement()) {
        st.execute("CREATE DATABASE IF NOT EXISTS interop");
        st.execute("DROP TABLE IF EXISTS interop.jdbc_rows");
        st.execute("CREATE TABLE interop.jdbc_rows (id UInt64, name String, amount Float64) ENGINE = MergeTree ORDER BY id");
        try (ResultSet rs = st.executeQuery("SELECT currentUser()")) {
          rs.next();
          out.append("\"user\":\"").append(rs.getString(1)).append("\",");
        }
      }
      long started = System.nanoTime();
      try (PreparedStatement ps = conn.prepareStatement("INSERT INTO interop.jdbc_rows (id, name, amount) VALUES (?, ?, ?)")) {
        for (int i = 0; i < rows; i++) {
          ps.setLong(1, i);
          ps.setString(2, "customer-" + i);
          ps.setDouble(3, i * 0.5);
          ps.addBatch();
        }
        ps.executeBatch();
      }
      out.append("\"insert_seconds\":").append((System.nanoTime() - started) / 1e9).append(',');
      try (Statement st = conn.createStatement()) {
        try (ResultSet rs = st.executeQuery("SELECT count(), sum(id), sum(amount) FROM interop.jdbc_rows")) {
          rs.next();
          out.append("\"count\":").append(rs.getLong(1)).append(",\"sum_id\":").append(rs.getLong(2)).append(",\"sum_amount\":").append(rs.getDouble(3)).append(',');
        }
        started = System.nanoTime();
        long read = 0, sumId = 0;
        double sumAmount = 0;
        boolean namesMatch = true;
        try (ResultSet rs = st.executeQuery("SELECT id, name, amount FROM interop.jdbc_rows ORDER BY id")) {
          while (rs.next()) {
            long id = rs.getLong(1);
            sumId += id;
            sumAmount += rs.getDouble(3);
            if (!rs.getString(2).equals("customer-" + id)) namesMatch = false;
            read++;
          }
        }
        out.append("\"query_seconds\":").append((System.nanoTime() - started) / 1e9).append(',');
        out.append("\"read_rows\":").append(read).append(",\"read_sum_id\":").append(sumId).append(",\"read_sum_amount\":").append(sumAmount)
            .append(",\"names_match\":").append(namesMatch);
      }
    }
    System.out.println(out.append('}'));
  }
}
