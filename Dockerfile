FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY adapters ./adapters
COPY config ./config
COPY sandbox ./sandbox
RUN pip install --no-cache-dir .
VOLUME /data
ENV CHARBRIDGE_BRIDGE__DATA_DIR=/data
ENTRYPOINT ["charbridge"]
CMD ["run"]
