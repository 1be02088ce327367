/** The files a single combined KRaft node (broker + controller) on loopback needs. */
export interface BrokerPorts {
  port: number;
  controllerPort: number;
}

export function serverProperties(dataDir: string, ports: BrokerPorts): string {
  const host = '127.0.0.1';
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.bootstrap.servers=${host}:${ports.controllerPort}`,
    `listeners=PLAINTEXT://${host}:${ports.port},CONTROLLER://${host}:${ports.controllerPort}`,
    `advertised.listeners=PLAINTEXT://${host}:${ports.port},CONTROLLER://${host}:${ports.controllerPort}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${dataDir}`,
    // Topics are created by the project with their partition counts, never by a typo.
    'auto.create.topics.enable=false',
    'num.partitions=6',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    '',
  ].join('\n');
}

export function log4jProperties(logFile: string): string {
  return [
    'status = error',
    'appender.file.type = File',
    'appender.file.name = file',
    `appender.file.fileName = ${logFile}`,
    'appender.file.layout.type = PatternLayout',
    'appender.file.layout.pattern = [%d] %p %m (%c)%n',
    'rootLogger.level = info',
    'rootLogger.appenderRef.file.ref = file',
    'logger.kafka.name = kafka',
    'logger.kafka.level = info',
    'logger.apache.name = org.apache.kafka',
    'logger.apache.level = warn',
    '',
  ].join('\n');
}
